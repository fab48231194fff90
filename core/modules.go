package core

// Modules: the parts of the product an actor may be let use as a whole
// (ActionModuleUse on ResourceModule with the module's id), and the abilities
// within one that no record carries (approving host requests is no action on
// one request). A grant of module.use on one of these is how an
// administrator opens a part of the product to a user or a group; the use
// cases of the part check it.
const (
	ModuleApplications    = "applications"     // the application tree and its deploys
	ModuleHosts           = "hosts"            // hosts (servers) as a CMDB
	ModuleProductLines    = "product_lines"    // product lines (business lines)
	ModuleRequests        = "requests"         // resource requests
	ModuleRequestsCreate  = "requests.create"  // filing resource requests
	ModuleRequestsHosts   = "requests.hosts"   // approving host requests
	ModuleRequestsDomains = "requests.domains" // approving domain requests
	ModuleRequestsCerts   = "requests.certs"   // approving certificate requests
	ModuleDNS             = "dns"              // DNS zones and records
	ModuleDNSServers      = "dns.servers"      // managing DNS services
	ModuleLinks           = "links"            // external links
	ModuleTools           = "tools"            // the common tools
	ModuleCDNRefresh      = "tools.cdn"        // CDN refresh tasks
	ModuleBastionLog      = "tools.bastion"    // the bastion's log
	ModuleDeployTemplates = "deploy_templates" // deploy templates, scripts and credentials
)
