package desktop

import (
	"fmt"
	"hostdeck/core"
	"hostdeck/core/login"
	"net/netip"
	"strings"
)

// This file holds the Web Guard of a pool: the networks its broker clients may
// come from.

// maxAllowedNetworks bounds a project's Web Guard list.
const maxAllowedNetworks = 256

// parseNetwork reads a CIDR or a single address (a /32 or /128).
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CheckAllowedNetworks validates a Web Guard list: CIDRs or single addresses.
func CheckAllowedNetworks(nets []string) error {
	if len(nets) > maxAllowedNetworks {
		return core.Invalid("allowed_networks", "at most %d networks are allowed", maxAllowedNetworks)
	}
	for _, n := range nets {
		if _, err := parseNetwork(n); err != nil {
			return core.Invalid("allowed_networks", "%q is not a CIDR or an IP address", n)
		}
	}
	return nil
}

// normNetworks writes each valid network in canonical form (invalid ones are
// kept for CheckAllowedNetworks to refuse).
func normNetworks(nets []string) []string {
	out := make([]string, 0, len(nets))
	for _, n := range nets {
		if p, err := parseNetwork(n); err == nil {
			n = p.String()
		}
		out = append(out, n)
	}
	return out
}

// CheckWebGuard refuses a client whose address is outside the project's
// allowed networks (KindForbidden, reason web_guard); an empty list allows all.
func CheckWebGuard(p *Pool, source string) error {
	if len(p.AllowedNetworks) == 0 {
		return nil
	}
	if a, err := netip.ParseAddr(source); err == nil {
		a = a.Unmap().WithZone("")
		for _, n := range p.AllowedNetworks {
			if pr, err := parseNetwork(n); err == nil && pr.Contains(a) {
				return nil
			}
		}
	}
	return core.Reasoned(core.KindForbidden, login.ReasonWebGuard,
		fmt.Sprintf("requests from %s are not allowed for project %s", source, p.Name),
		"project_name", p.Name, "ip_address", source)
}
