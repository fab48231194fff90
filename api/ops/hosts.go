package ops

import (
	"net/http"
	"slices"

	"hostdeck/core"
	"hostdeck/core/fleet"
)

// Hosts (rows 36 and the extensions to add, read, change and remove one) are
// hostdeck's servers: a host added here is a server on alfa, and the reverse.
// A user sees the hosts it holds view_host on.

// hostTypes are the document's host types; a server made elsewhere has none.
var hostTypes = []string{"ALI_ECS", "PHY_HOST", "TECENT_CVM", "TECENT_CPM", "CLOUDSTACK", "CLOUDSTACK_OFFICE"}

// hostBody is the Host object. status is where the host is in its life
// (raw, inited, attached, offline); os_status is running while the host
// answers its runtime, stopped when it has not lately.
type hostBody struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	HostType    string        `json:"host_type"`
	Status      string        `json:"status"`
	OSStatus    string        `json:"os_status"`
	OSType      string        `json:"os_type"`
	CPU         int           `json:"cpu"`
	Memory      int64         `json:"memory"`
	Location    string        `json:"location"`
	IPAddress   []addressBody `json:"ip_address"`
	Description string        `json:"description"`
	CreatedTime string        `json:"created_time"`
}

// addressBody is the Ip Address Object.
type addressBody struct {
	ID        int    `json:"id"`
	Owner     string `json:"owner"`
	IsVirtual bool   `json:"is_virtual"`
	AddrType  string `json:"addr_type"`
	Network   string `json:"network"`
	Netmask   string `json:"netmask"`
	Address   string `json:"address"`
}

func (f *face) hostOf(s *core.Server) hostBody {
	addrs := make([]addressBody, len(s.Addresses))
	for i, a := range s.Addresses {
		kind := "PRIVATE"
		if a.Public {
			kind = "PUBLIC"
		}
		addrs[i] = addressBody{ID: i + 1, Owner: "HOST", IsVirtual: a.Virtual, AddrType: kind, Network: a.Network, Netmask: a.Netmask, Address: a.Address}
	}
	os := "stopped"
	if f.Fleet.Running(s) {
		os = "running"
	}
	return hostBody{ID: s.Number, Name: s.Name, HostType: s.Kind, Status: string(s.Stage), OSStatus: os, OSType: s.OSType,
		CPU: s.CPUs, Memory: s.MemoryMB, Location: s.Location, IPAddress: addrs, Description: s.Description, CreatedTime: when(s.CreatedAt)}
}

func (f *face) host(r *http.Request) (*core.Server, error) {
	n, err := pathID(r, "host")
	if err != nil {
		return nil, err
	}
	id, err := f.Core.IDOfNumber(r.Context(), core.NumberServer, "host", n)
	if err != nil {
		return nil, err
	}
	return f.Fleet.GetServer(r.Context(), id)
}

func (f *face) listHosts(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := core.ServerFilter{Page: p}
	if fl.Name, err = q.str("name", "hostname"); err != nil {
		return err
	}
	if fl.Kind, err = q.str("host_type"); err != nil {
		return err
	}
	ss, total, err := f.Fleet.ListVisibleServers(r.Context(), fl)
	if err != nil {
		return err
	}
	out := make([]hostBody, len(ss))
	for i, s := range ss {
		out[i] = f.hostOf(s)
	}
	writeList(w, r, num, size, total, out)
	return nil
}

// hostInput is the body of adding or changing a host (extensions), in both
// of the document's spellings of ip_address.
type hostInput struct {
	Name        *string         `json:"name"`
	HostType    *string         `json:"host_type"`
	Location    *string         `json:"location"`
	Description *string         `json:"description"`
	OSType      *string         `json:"os_type"`
	CPU         *int            `json:"cpu"`
	Memory      *int64          `json:"memory"`
	IPAddress   *[]addressInput `json:"ip_address"`
	IPAdress    *[]addressInput `json:"ip_adress"`
}

type addressInput struct {
	ID        *number `json:"id"` // read back and sent again: ignored
	Owner     *string `json:"owner"`
	IsVirtual bool    `json:"is_virtual"`
	AddrType  string  `json:"addr_type"`
	Network   string  `json:"network"`
	Netmask   string  `json:"netmask"`
	Address   string  `json:"address"`
}

func (in hostInput) fleet() (fleet.ServerInput, error) {
	out := fleet.ServerInput{Name: in.Name, Kind: in.HostType, Location: in.Location, Description: in.Description,
		OSType: in.OSType, CPUs: in.CPU, MemoryMB: in.Memory}
	if in.HostType != nil && !slices.Contains(hostTypes, *in.HostType) {
		return out, invalid("host_type must be one of %v, not %q", hostTypes, *in.HostType)
	}
	addrs := in.IPAddress
	if addrs == nil {
		addrs = in.IPAdress
	}
	if addrs != nil {
		list := make([]core.HostAddress, len(*addrs))
		for i, a := range *addrs {
			switch a.AddrType {
			case "", "PRIVATE", "PUBLIC":
			default:
				return out, invalid("addr_type must be PRIVATE or PUBLIC, not %q", a.AddrType)
			}
			list[i] = core.HostAddress{Address: a.Address, Public: a.AddrType == "PUBLIC", Virtual: a.IsVirtual, Network: a.Network, Netmask: a.Netmask}
		}
		out.Addresses = &list
	}
	return out, nil
}

func (f *face) createHost(w http.ResponseWriter, r *http.Request) error {
	var in hostInput
	if err := decode(r, &in); err != nil {
		return err
	}
	si, err := in.fleet()
	if err != nil {
		return err
	}
	s, err := f.Fleet.CreateServer(r.Context(), si)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f.hostOf(s))
	return nil
}

// getHost asks the host's runtime how it is now: its os_status is live.
func (f *face) getHost(w http.ResponseWriter, r *http.Request) error {
	s, err := f.host(r)
	if err != nil {
		return err
	}
	d, err := f.Fleet.ServerDetail(r.Context(), s.ID)
	if err != nil {
		return err
	}
	h := f.hostOf(d.Server)
	h.OSStatus = "stopped"
	if d.Load.Reachable {
		h.OSStatus = "running"
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (f *face) updateHost(w http.ResponseWriter, r *http.Request) error {
	s, err := f.host(r)
	if err != nil {
		return err
	}
	var in hostInput
	if err := decode(r, &in); err != nil {
		return err
	}
	si, err := in.fleet()
	if err != nil {
		return err
	}
	if s, err = f.Fleet.UpdateServer(r.Context(), s.ID, si); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f.hostOf(s))
	return nil
}

func (f *face) deleteHost(w http.ResponseWriter, r *http.Request) error {
	s, err := f.host(r)
	if err != nil {
		return err
	}
	if err := f.Fleet.DeleteServer(r.Context(), s.ID); err != nil {
		return err
	}
	return success(w)
}
