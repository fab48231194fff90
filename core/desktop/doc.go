// Package desktop owns the pools of remote-desktop machines: a pool is a core
// Project with pool settings (flavor, image, operation mode, reserve, quota,
// Web Guard); its machines are core Instances assigned to users and groups;
// users' sessions on them, their floating IPs and the volumes assigned to them
// in a pool are kept here too. The hand-out of a machine to a user, the refill
// that keeps free machines ready and the allocation of free machines to a
// pool's members run as task kinds it registers with core.
//
// What a project contains (its machines, its volume assignments) is read by
// root core too, for project limits: those types and reads are core's
// (core/project_contents.go).
package desktop
