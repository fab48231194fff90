package links

import (
	"context"
	"time"

	"hostdeck/core"
)

// Link is a link to an outside tool.
type Link struct {
	ID        string    `json:"id"`
	Number    int64     `json:"number"` // its numeric id (core.NumberLink)
	Name      string    `json:"name"`
	Image     string    `json:"image"` // a path on this site ("/…") or an http(s) URL
	URL       string    `json:"url"`
	Creator   string    `json:"creator"` // the name of the user who made it
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LinkInput is what creates a link (every field) or changes one (the fields
// that are set).
type LinkInput struct {
	Name  *string
	Image *string
	URL   *string
}

// LinkFilter selects links; nil fields do not filter.
type LinkFilter struct {
	Name *string // exactly this name
	core.Page
}

// Store is what links keeps and reads, in one transaction or each call on its
// own.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations links' use cases run: its links, the
// numbers that name them, and the audit trail.
type Queries interface {
	LinkStore
	core.NumberReader
	core.Recorder
}

// LinkStore keeps links. Unknown ids are KindNotFound; a name another link
// has is KindConflict.
type LinkStore interface {
	// CreateLink stores l, giving it its id, number and times.
	CreateLink(ctx context.Context, l *Link) error
	GetLink(ctx context.Context, id string) (*Link, error)
	// ListLinks lists a page of the links f selects, in creation order unless
	// sorted otherwise (by name, number, created_at or updated_at).
	ListLinks(ctx context.Context, f LinkFilter) (core.List[*Link], error)
	// UpdateLink changes the fields of u that are set, and UpdatedAt.
	UpdateLink(ctx context.Context, id string, u LinkInput) (*Link, error)
	DeleteLink(ctx context.Context, id string) error
}
