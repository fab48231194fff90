package sim

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"

	"hostdeck/core"
)

// Named networks. An instance whose spec names a Network gets an address on it
// at Create, as a container gets one on its bridge network: each network is a
// /20 block of 10.128.0.0/9 (2048 blocks), chosen by a hash of the network's
// name (the next free block when two names hash alike), and its instances take
// the block's addresses in order, from .2 (.1 is the gateway, as on a Docker
// bridge). Addresses are unique within a network and not handed out twice,
// also after the instance is deleted; after a restart from Options.StateFile a
// network goes on after the highest address still held. Networks are the
// simulator's, not a server's: a name means one network whatever server its
// instances are on. Instances without a Network keep the address derived from
// their ref (10.88.x.y).

const (
	netBase      = 10<<24 | 128<<16 // 10.128.0.0
	netBlockBits = 12               // a /20: 4096 addresses
	netBlocks    = 1 << (23 - netBlockBits)
	netHosts     = 1<<netBlockBits - 3 // without network, gateway and broadcast
)

// simNetwork is one named network: its block and the last sequence handed out.
type simNetwork struct {
	block int
	seq   int
}

// netAddr gives the next address of a named network, making the network on first
// use. Callers hold mu.
func (s *Sim) netAddr(name string) (string, error) {
	n, ok := s.nets[name]
	if !ok {
		if len(s.blocks) >= netBlocks {
			return "", core.Errorf(core.KindConflict, "no address block left for network %s", name)
		}
		h := fnv.New32a()
		h.Write([]byte(name))
		b := int(h.Sum32() % netBlocks)
		for s.blocks[b] != "" {
			b = (b + 1) % netBlocks
		}
		n = &simNetwork{block: b}
		s.nets[name], s.blocks[b] = n, name
	}
	if n.seq >= netHosts {
		return "", core.Errorf(core.KindConflict, "network %s has no address left", name)
	}
	n.seq++
	return blockAddr(n.block, n.seq).String(), nil
}

// blockAddr is the address of the seq-th instance of a block.
func blockAddr(block, seq int) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(netBase+block<<netBlockBits+1+seq))
	return netip.AddrFrom4(b)
}

// noteAddr records an address read back from the state file, so that networks
// keep their blocks and go on after their highest sequence. Callers hold mu.
func (s *Sim) noteAddr(name, addr string) {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return
	}
	b := a.As4()
	off := int(binary.BigEndian.Uint32(b[:])) - netBase
	if off < 0 || off >= netBlocks<<netBlockBits {
		return
	}
	block, seq := off>>netBlockBits, off&(1<<netBlockBits-1)-1
	n, ok := s.nets[name]
	if !ok {
		if s.blocks[block] != "" {
			return // cannot happen with a file this package wrote
		}
		n = &simNetwork{block: block}
		s.nets[name], s.blocks[block] = n, name
	}
	if n.block == block {
		n.seq = max(n.seq, seq)
	}
}
