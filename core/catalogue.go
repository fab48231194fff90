package core

import (
	"time"
)

// Flavor is the size of an instance: what a pool's flavor_id names.
type Flavor struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	VCPUs     int       `json:"vcpus"`
	RAM       int       `json:"ram"`  // MiB
	Disk      int       `json:"disk"` // GiB
	CreatedAt time.Time `json:"created_at"`
}

// FlavorInput is what an admin gives to create a flavor.
type FlavorInput struct {
	Name  string
	VCPUs int
	RAM   int // MiB
	Disk  int // GiB
}

// Image zones: pub images are seen by everyone, own images by their owner only.
const (
	ZonePub = "pub"
	ZoneOwn = "own"
)

// ImageFilter selects images. VisibleTo, when set, keeps the pub images and the
// own images of that owner.
type ImageFilter struct {
	VisibleTo *string
	Zone      *string
	Page
}

// ImageInput is what an admin gives to add an image to the catalogue.
type ImageInput struct {
	Name   string
	Ref    string
	Zone   string // ZonePub (default) or ZoneOwn
	Owner  string // the owner's user name or id; required for ZoneOwn
	OSType string
}
