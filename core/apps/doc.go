// Package apps owns the applications a team runs and the product lines they
// belong to: applications form a tree (each has at most one parent, and its
// full name is the dotted path of names from its root), depend on one another
// (an application requires others; dependencies never make a cycle), have
// responsible persons (users, each as a developer, operator, tester or
// product manager) and belong to at most one product line. Who sees and
// changes an application is the access policy's: administrators, and the
// users and groups granted an application action on it or on every one.
package apps
