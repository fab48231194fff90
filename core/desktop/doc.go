// Package desktop owns the pools of remote-desktop machines: a pool is a core
// Project with pool settings (flavor, image, operation mode, reserve, quota,
// Web Guard); it keeps the pools, the defaults of new ones, the Web Guard
// that says which networks a pool's broker clients may come from, and the
// volumes assigned to users in a pool (volumes.go).
//
// Around a pool, each a package of its own: its machines and their assignment
// to users and groups, with the pool's statistics (core/desktop/machine); the making of
// new machines (core/desktop/provision); the hand-out of a machine to a user, the
// refill and the allocation of free machines to members (core/desktop/handout); and
// users' sessions and floating IPs (core/desktop/session).
//
// What a project contains (its machines, its volume assignments) is read by
// root core too, for project limits: those types and reads are core's
// (core/project_contents.go).
package desktop
