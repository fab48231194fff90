// Package session owns what a user of the remote-desktop pools holds around
// the machines: the sessions of its connections to them (recorded, closed,
// listed and counted), and the floating IP address it is given from the
// configured pool.
package session
