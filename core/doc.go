// Package core is hostdeck's kernel: the nouns the capabilities share (servers,
// images, projects, users, instances, clients, tasks, audit events), the error
// kinds, the actor, the checks of text and filters, the interfaces the outside
// world implements (Runtime, Notifier, Sealer, Hasher), the task and audit
// records every change writes, placement, and the one access policy
// (access*.go) every use case asks. The use cases themselves live in the
// packages below core, one per capability, each with its own store interface;
// core's Store is what the kernel's own use cases (tasks, audit, grants) need.
//
// core imports only the standard library and small pure helpers (core/secret).
// Adapters (store/…, runtime/…, task, notify) implement its interfaces; faces
// (api/…) call its use cases; only cmd/hostdeck wires concrete types together.
package core
