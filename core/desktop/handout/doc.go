// Package handout owns the hand-out of the remote-desktop pools' machines to
// their users: a broker client's request for a machine (KindHandOut), which
// gives the user the machine it holds, a free one, in a mode 2 pool the least
// shared one, or a new one; the state of such a request, and the session it
// records once the machine is ready; the pools a user may ask a machine from;
// the refill that keeps MinReserveVM free machines ready in every pool
// (KindPoolRefill, periodic); and the allocation of free machines to a pool's
// members (KindAutoAllocate).
//
// A free machine is locked and assigned in one transaction, so that no
// machine is ever given twice; the assignment itself is core/desktop/machine's
// (machine.Service.Assign), new machines are core/desktop/provision's.
package handout
