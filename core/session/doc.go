// Package session owns what a user of the remote-desktop pools holds around
// the machines: the sessions of its connections to them (recorded, closed,
// listed and counted), the floating IP address it is given from the configured
// pool, and the volumes assigned to it in a pool.
//
// The VolumeAssignment type and its filter are root core's
// (core/project_contents.go): project limits read them.
package session
