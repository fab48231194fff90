// Package core is hostdeck's domain: the nouns every face shows (servers, images,
// projects, users, instances, clients, tasks, audit events), the error kinds, the
// interfaces core needs from the outside world (Store, Runtime, Notifier) and the
// use cases, one place for every rule. Who may do what is one access policy
// (access.go), which every use case asks.
//
// core imports only the standard library and small pure helpers (core/secret).
// Adapters (store/…, runtime/…, task, notify) implement its interfaces; faces
// (api/…) call its use cases; only cmd/hostdeck wires concrete types together.
package core
