// Package links keeps links to outside tools that an admin API shows its users
// (a monitoring board, a wiki, a log viewer): each a unique name, an image and
// an http or https URL, numbered for the APIs that name records by integers.
// Seeing them takes link.view and changing them link.manage (core's access
// policy: administrators hold both, others through grants); every change is
// audited in its transaction.
package links
