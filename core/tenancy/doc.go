// Package tenancy owns the storage service's customers and the projects they
// own: a customer is a core User of RealmStorage with a Profile (its names
// and how many projects it may own); its projects are core Projects of type
// ProjectTypeCustomer, created with default limits.
//
// The limits themselves, their enforcement on new instances and volumes, the
// rate limit and the usage measurement are core/quota's: they apply to every
// project.
package tenancy
