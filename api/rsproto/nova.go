package rsproto

import "hostdeck/core"

// NovaState is the Nova status, vm_state, task_state and power_state of an
// instance state, as both faces show a machine.
func NovaState(s core.InstanceState) (status, vm string, task any, power int) {
	switch s {
	case core.StateActive:
		return "ACTIVE", "active", nil, 1
	case core.StateBuilding:
		return "BUILD", "building", "spawning", 0
	case core.StateRebooting:
		return "REBOOT", "active", "rebooting", 1
	case core.StateStopped:
		return "SHUTOFF", "stopped", nil, 4
	case core.StateRescue:
		return "RESCUE", "rescued", nil, 1
	case core.StateDeleted:
		return "DELETED", "deleted", nil, 0
	}
	return "ERROR", "error", nil, 0
}
