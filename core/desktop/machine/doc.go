// Package machine owns the machines of the remote-desktop pools as their users
// see them: a machine is a core Instance of a pool (core/desktop), assigned to
// users and groups, many to many; every assignment and its removal is kept as a
// line of the machine's history. It lists and reads machines with their users
// and groups, assigns and unassigns them, and counts a pool's machines for its
// statistics.
//
// Making new machines is core/desktop/provision's; handing a machine out to a user who
// asks for one is core/desktop/handout's. Both assign inside their own transactions
// through the few functions exported here that take the transaction's queries
// (Assign, AssignUser, SubjectsOf, CheckSubjects), so that an assignment and
// its history line are written one way; the hand-out follows the machine it
// gave with Load.
package machine
