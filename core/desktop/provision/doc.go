// Package provision owns the making of new machines in the remote-desktop
// pools (core/desktop): their names from the pool's pattern, their placement on
// a server with room, the pool's machine quota and the project's limits, the
// users and groups they start assigned to, and the KindMachineCreate task that
// creates, starts and initialises each one on its runtime. An administrator
// asks for machines here; the hand-out and the pools' refill (core/desktop/handout) ask
// for them through Create.
package provision
