package sim

import (
	"slices"
	"time"

	"hostdeck/core"
)

// store keeps what not every call needs, the spec and the files in the volumes,
// and, with a state file, makes every change durable before it returns. The Sim
// holds mu around every call, and changes its memory only after the store took
// the change. Volumes are named by the spec: an instance has exactly the volumes
// its spec lists, each empty at Create.
type store interface {
	// create records a new instance with its spec, and sets in.row.
	create(serverID string, in *instance, spec core.InstanceSpec, createdAt time.Time) error
	// update records an instance's state, its change under way and the image of
	// its rescue system ("" when not in rescue).
	update(in *instance, rescue string) error
	// remove forgets an instance, its spec and its volumes.
	remove(in *instance) error

	// volumes returns the names of an instance's volumes, in the spec's order.
	volumes(in *instance) ([]string, error)
	// readFile returns a file's content and whether it is there.
	readFile(in *instance, volume, path string) ([]byte, bool, error)
	// writeFile writes a file into a volume the instance has.
	writeFile(in *instance, volume, path string, data []byte) error
	// copyVolumes replaces the content of each volume toVols[i] of to with that
	// of fromVols[i] of from (the two of the same length).
	copyVolumes(from *instance, fromVols []string, to *instance, toVols []string) error
	// storedBytes is the size of the files in an instance's volumes.
	storedBytes(in *instance) (int64, error)

	close() error
}

// memStore is the store of a Sim without a state file: everything in memory.
type memStore map[*instance]*memVolumes

// memVolumes is an instance's volumes: their names in the spec's order, and
// volume name -> path -> content.
type memVolumes struct {
	names []string
	files map[string]map[string][]byte
}

func (m memStore) create(_ string, in *instance, spec core.InstanceSpec, _ time.Time) error {
	v := &memVolumes{files: map[string]map[string][]byte{}}
	for _, vol := range spec.Volumes {
		v.names = append(v.names, vol.Name)
		v.files[vol.Name] = map[string][]byte{}
	}
	m[in] = v
	return nil
}

func (memStore) update(*instance, string) error { return nil }

func (m memStore) remove(in *instance) error {
	delete(m, in)
	return nil
}

func (m memStore) volumes(in *instance) ([]string, error) {
	if v, ok := m[in]; ok {
		return v.names, nil
	}
	return nil, core.NotFound("instance", in.ref)
}

func (m memStore) readFile(in *instance, volume, path string) ([]byte, bool, error) {
	v, ok := m[in]
	if !ok {
		return nil, false, nil
	}
	b, ok := v.files[volume][path]
	return slices.Clone(b), ok, nil
}

func (m memStore) writeFile(in *instance, volume, path string, data []byte) error {
	v, ok := m[in]
	if !ok || v.files[volume] == nil {
		return core.NotFound("volume", volume)
	}
	v.files[volume][path] = slices.Clone(data)
	return nil
}

func (m memStore) copyVolumes(from *instance, fromVols []string, to *instance, toVols []string) error {
	src, dst := m[from], m[to]
	if src == nil || dst == nil {
		return core.NotFound("instance", from.ref)
	}
	for i, name := range fromVols {
		files := map[string][]byte{}
		for p, b := range src.files[name] {
			files[p] = slices.Clone(b)
		}
		dst.files[toVols[i]] = files
	}
	return nil
}

func (m memStore) storedBytes(in *instance) (int64, error) {
	var n int64
	if v, ok := m[in]; ok {
		for _, files := range v.files {
			for _, b := range files {
				n += int64(len(b))
			}
		}
	}
	return n, nil
}

func (memStore) close() error { return nil }
