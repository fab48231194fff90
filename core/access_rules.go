package core

// The rules of the access policy (access.go): every action, the type of
// resource it is taken on, and who holds it besides administrators and the
// grants given for it. A use case that takes a new action adds its line here.

// Resource types.
const (
	ResourceServer           ResourceType = "server" // a machine of the fleet (a host)
	ResourceClient           ResourceType = "client"
	ResourceInstance         ResourceType = "instance"
	ResourceMachine          ResourceType = "machine" // a TRS machine's place in its pool: its assignments
	ResourceProject          ResourceType = "project"
	ResourceImage            ResourceType = "image"
	ResourceFlavor           ResourceType = "flavor"
	ResourceTask             ResourceType = "task"
	ResourceAudit            ResourceType = "audit"
	ResourceUser             ResourceType = "user"
	ResourceGroup            ResourceType = "group"
	ResourceToken            ResourceType = "token"
	ResourceCredential       ResourceType = "credential"
	ResourceSession          ResourceType = "session"
	ResourceFloatingIP       ResourceType = "floating_ip"
	ResourceVolumeAssignment ResourceType = "volume_assignment"
	ResourceCoupon           ResourceType = "coupon"
	ResourceVMRequest        ResourceType = "vm_request"
	ResourceGrant            ResourceType = "grant"
	ResourceModule           ResourceType = "module" // a part of the product as a whole (ID: its name)
	ResourceApplication      ResourceType = "application"
	ResourceProductLine      ResourceType = "product_line"
	ResourceLink             ResourceType = "link" // a link to an outside tool, shown to the users of an admin API
)

// Modules, the IDs of ResourceModule.
const (
	ModuleStorage = "storage" // the storage satellite's administration
)

// Actions.
const (
	ActionServerView       Action = "server.view"
	ActionServerCreate     Action = "server.create"
	ActionServerEdit       Action = "server.edit"
	ActionServerDelete     Action = "server.delete"
	ActionServerReboot     Action = "server.reboot"
	ActionServerInit       Action = "server.init"
	ActionServerLogin      Action = "server.login"
	ActionServerDeactivate Action = "server.deactivate"

	ActionClientView     Action = "client.view"
	ActionClientCreate   Action = "client.create"
	ActionClientEdit     Action = "client.edit"
	ActionClientNotify   Action = "client.notify"
	ActionClientReboot   Action = "client.reboot"
	ActionClientTransfer Action = "client.transfer"
	ActionClientDelete   Action = "client.delete"

	ActionInstanceView   Action = "instance.view"
	ActionInstanceStart  Action = "instance.start"
	ActionInstanceStop   Action = "instance.stop"
	ActionInstanceReboot Action = "instance.reboot"
	ActionInstanceRescue Action = "instance.rescue"

	ActionMachineView    Action = "machine.view"
	ActionMachineCreate  Action = "machine.create"
	ActionMachineAssign  Action = "machine.assign"
	ActionMachineLeave   Action = "machine.leave"
	ActionMachineRequest Action = "machine.request"

	ActionProjectView     Action = "project.view"
	ActionProjectCreate   Action = "project.create"
	ActionProjectEdit     Action = "project.edit"
	ActionProjectDelete   Action = "project.delete"
	ActionProjectGrant    Action = "project.grant"
	ActionProjectAllocate Action = "project.allocate"

	ActionImageView   Action = "image.view"
	ActionImageCreate Action = "image.create"

	ActionFlavorView   Action = "flavor.view"
	ActionFlavorCreate Action = "flavor.create"

	ActionTaskView   Action = "task.view"
	ActionTaskCancel Action = "task.cancel"

	ActionAuditView Action = "audit.view"

	ActionUserView     Action = "user.view"
	ActionUserCreate   Action = "user.create"
	ActionUserEdit     Action = "user.edit"
	ActionUserDelete   Action = "user.delete"
	ActionUserPassword Action = "user.password"

	ActionGroupView   Action = "group.view"
	ActionGroupCreate Action = "group.create"
	ActionGroupEdit   Action = "group.edit"

	ActionTokenView   Action = "token.view"
	ActionTokenRevoke Action = "token.revoke"

	ActionCredentialView   Action = "credential.view"
	ActionCredentialCreate Action = "credential.create"
	ActionCredentialDelete Action = "credential.delete"

	ActionSessionView   Action = "session.view"
	ActionSessionRecord Action = "session.record"
	ActionSessionClose  Action = "session.close"

	ActionFloatingIPView   Action = "floating_ip.view"
	ActionFloatingIPManage Action = "floating_ip.manage"

	ActionVolumeAssignmentView   Action = "volume_assignment.view"
	ActionVolumeAssignmentManage Action = "volume_assignment.manage"

	ActionCouponView   Action = "coupon.view"
	ActionCouponCreate Action = "coupon.create"
	ActionCouponDelete Action = "coupon.delete"

	ActionVMRequestView Action = "vm_request.view"

	ActionGrantView   Action = "grant.view"
	ActionGrantManage Action = "grant.manage"

	ActionModuleUse Action = "module.use"

	ActionApplicationView         Action = "application.view"
	ActionApplicationCreate       Action = "application.create"
	ActionApplicationEdit         Action = "application.edit"
	ActionApplicationDelete       Action = "application.delete"
	ActionApplicationDeploy       Action = "application.deploy"
	ActionApplicationReviewDeploy Action = "application.review_deploy"
	ActionApplicationRestart      Action = "application.restart"
	ActionApplicationViewLog      Action = "application.view_log"
	ActionApplicationViewMonitor  Action = "application.view_monitor"

	ActionProductLineView   Action = "product_line.view"
	ActionProductLineCreate Action = "product_line.create"
	ActionProductLineEdit   Action = "product_line.edit"
	ActionProductLineDelete Action = "product_line.delete"

	ActionLinkView   Action = "link.view"
	ActionLinkManage Action = "link.manage"
)

// holders says who holds an action besides administrators and grants.
type holders uint8

const (
	anyone   holders = 1 << iota // every signed-in user
	owner                        // the resource's owner (Resource.Owner)
	members                      // the resource's users: assigned to it, or owning or holding a role on its project
	public                       // every signed-in user, when the resource is public
	personal                     // the owner alone: not even an administrator (the system still may)
)

// actionRule is one action's rule.
type actionRule struct {
	action  Action
	on      ResourceType
	holders holders // none: administrators and grants only
	what    string  // what the action does, for errors ("reboot instances")
}

// rules is every action's rule, by resource type; Permissions.Actions answers
// in this order.
var rules = []actionRule{
	{ActionServerView, ResourceServer, 0, "see servers"},
	{ActionServerCreate, ResourceServer, 0, "add servers"},
	{ActionServerEdit, ResourceServer, 0, "change servers"},
	{ActionServerDelete, ResourceServer, 0, "remove servers"},
	{ActionServerReboot, ResourceServer, 0, "reboot servers"},
	{ActionServerInit, ResourceServer, 0, "initialise hosts"},
	{ActionServerLogin, ResourceServer, 0, "log in to hosts"},
	{ActionServerDeactivate, ResourceServer, 0, "take hosts offline"},

	{ActionClientView, ResourceClient, 0, "see clients"},
	{ActionClientCreate, ResourceClient, 0, "create clients"},
	{ActionClientEdit, ResourceClient, 0, "change clients"},
	{ActionClientNotify, ResourceClient, 0, "send clients their e-mails"},
	{ActionClientReboot, ResourceClient, 0, "reboot clients"},
	{ActionClientTransfer, ResourceClient, 0, "move clients to another server"},
	{ActionClientDelete, ResourceClient, 0, "delete clients"},

	{ActionInstanceView, ResourceInstance, members, "see instances"},
	{ActionInstanceStart, ResourceInstance, members, "start instances"},
	{ActionInstanceStop, ResourceInstance, members, "stop instances"},
	{ActionInstanceReboot, ResourceInstance, members, "reboot instances"},
	{ActionInstanceRescue, ResourceInstance, members, "put instances into and out of rescue"},

	{ActionMachineView, ResourceMachine, 0, "see the machines of the pools"},
	{ActionMachineCreate, ResourceMachine, 0, "create machines"},
	{ActionMachineAssign, ResourceMachine, 0, "assign machines"},
	{ActionMachineLeave, ResourceMachine, owner, "leave machines"},
	{ActionMachineRequest, ResourceMachine, members, "ask for machines of this pool"},

	{ActionProjectView, ResourceProject, 0, "see projects"},
	{ActionProjectCreate, ResourceProject, 0, "create projects"},
	{ActionProjectEdit, ResourceProject, 0, "change projects"},
	{ActionProjectDelete, ResourceProject, 0, "delete projects"},
	{ActionProjectGrant, ResourceProject, 0, "grant roles on projects"},
	{ActionProjectAllocate, ResourceProject, 0, "allocate machines to the members of projects"},

	{ActionImageView, ResourceImage, owner | public, "see images"},
	{ActionImageCreate, ResourceImage, 0, "add images"},

	{ActionFlavorView, ResourceFlavor, anyone, "see flavors"},
	{ActionFlavorCreate, ResourceFlavor, 0, "add flavors"},

	{ActionTaskView, ResourceTask, 0, "see tasks"},
	{ActionTaskCancel, ResourceTask, 0, "cancel tasks"},

	{ActionAuditView, ResourceAudit, 0, "read the audit log"},

	{ActionUserView, ResourceUser, owner, "see users"},
	{ActionUserCreate, ResourceUser, 0, "create users"},
	{ActionUserEdit, ResourceUser, 0, "change users"},
	{ActionUserDelete, ResourceUser, 0, "delete users"},
	{ActionUserPassword, ResourceUser, 0, "set passwords"},

	{ActionGroupView, ResourceGroup, 0, "see groups"},
	{ActionGroupCreate, ResourceGroup, 0, "create groups"},
	{ActionGroupEdit, ResourceGroup, 0, "change the members of groups"},

	{ActionTokenView, ResourceToken, owner, "inspect other users' tokens"},
	{ActionTokenRevoke, ResourceToken, owner, "revoke other users' tokens"},

	{ActionCredentialView, ResourceCredential, owner, "see other users' credentials"},
	{ActionCredentialCreate, ResourceCredential, owner, "give other users credentials"},
	{ActionCredentialDelete, ResourceCredential, owner, "remove other users' credentials"},

	{ActionSessionView, ResourceSession, 0, "see sessions"},
	{ActionSessionRecord, ResourceSession, anyone, "record sessions"},
	{ActionSessionClose, ResourceSession, 0, "close sessions"},

	{ActionFloatingIPView, ResourceFloatingIP, 0, "see floating IPs"},
	{ActionFloatingIPManage, ResourceFloatingIP, 0, "allocate and release floating IPs"},

	{ActionVolumeAssignmentView, ResourceVolumeAssignment, 0, "see volume assignments"},
	{ActionVolumeAssignmentManage, ResourceVolumeAssignment, 0, "change volume assignments"},

	{ActionCouponView, ResourceCoupon, 0, "see coupons"},
	{ActionCouponCreate, ResourceCoupon, 0, "create coupons"},
	{ActionCouponDelete, ResourceCoupon, 0, "delete coupons"},

	{ActionVMRequestView, ResourceVMRequest, personal, "follow another user's machine request"},

	{ActionGrantView, ResourceGrant, 0, "see permissions"},
	{ActionGrantManage, ResourceGrant, 0, "grant and revoke permissions"},

	{ActionModuleUse, ResourceModule, 0, "use this module"},

	{ActionApplicationView, ResourceApplication, 0, "see applications"},
	{ActionApplicationCreate, ResourceApplication, 0, "create applications"},
	{ActionApplicationEdit, ResourceApplication, 0, "change applications"},
	{ActionApplicationDelete, ResourceApplication, 0, "delete applications"},
	{ActionApplicationDeploy, ResourceApplication, 0, "deploy applications"},
	{ActionApplicationReviewDeploy, ResourceApplication, 0, "review deploys of applications"},
	{ActionApplicationRestart, ResourceApplication, 0, "restart applications"},
	{ActionApplicationViewLog, ResourceApplication, 0, "read the logs of applications"},
	{ActionApplicationViewMonitor, ResourceApplication, 0, "see the monitoring of applications"},

	{ActionProductLineView, ResourceProductLine, 0, "see product lines"},
	{ActionProductLineCreate, ResourceProductLine, 0, "create product lines"},
	{ActionProductLineEdit, ResourceProductLine, 0, "change product lines"},
	{ActionProductLineDelete, ResourceProductLine, 0, "delete product lines"},

	{ActionLinkView, ResourceLink, 0, "see links"},
	{ActionLinkManage, ResourceLink, 0, "manage links"},
}

// ruleIndex finds an action's rule.
var ruleIndex = func() map[Action]*actionRule {
	m := make(map[Action]*actionRule, len(rules))
	for i := range rules {
		m[rules[i].action] = &rules[i]
	}
	return m
}()

// ruleOf is action's rule; an unknown action, or one asked on a resource of
// another type, is a bug of the use case (KindInternal).
func ruleOf(action Action, r Resource) (*actionRule, error) {
	rule, ok := ruleIndex[action]
	if !ok {
		return nil, Errorf(KindInternal, "access: unknown action %q", action)
	}
	if rule.on != r.Type {
		return nil, Errorf(KindInternal, "access: action %s asked on a %s", action, r.Type)
	}
	return rule, nil
}

// KnownAction reports whether a is an action of the policy (grants may only
// give those).
func KnownAction(a Action) bool { _, ok := ruleIndex[a]; return ok }

// ActionType is the resource type action is taken on ("" for an unknown one).
func ActionType(action Action) ResourceType {
	if r, ok := ruleIndex[action]; ok {
		return r.on
	}
	return ""
}

// ActionsOf lists the actions taken on resources of type t, in the order of
// the rules (Permissions.Actions answers in it); none for an unknown type.
func ActionsOf(t ResourceType) []Action {
	var out []Action
	for i := range rules {
		if rules[i].on == t {
			out = append(out, rules[i].action)
		}
	}
	return out
}
