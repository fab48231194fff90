package apps

import (
	"context"

	"hostdeck/core"
)

// Store is what apps keeps and reads, in one transaction or each call on its
// own.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations apps' use cases run: applications, product
// lines, the users named as persons, numbers, and the audit trail.
type Queries interface {
	AppStore
	LineStore
	GetUser(ctx context.Context, id string) (*core.User, error)
	core.NumberReader
	core.Recorder
}

// AppStore keeps applications. Reads return whole records: numbers of the
// parent and the product line, children, required applications and persons
// (with their users' names and addresses). Unknown ids are KindNotFound.
type AppStore interface {
	// LockApps makes the rest of the transaction wait for the other
	// transactions that took it, until they end: the checks of the tree and
	// of dependencies (no cycle) then see every change committed before
	// them. Outside a transaction, and where writers are serial already, it
	// costs nothing more.
	LockApps(ctx context.Context) error
	// CreateApp stores a's own fields (not its sets), filling ID when empty,
	// Number, and the times when zero. A full name taken is KindConflict.
	CreateApp(ctx context.Context, a *Application) error
	GetApp(ctx context.Context, id string) (*Application, error)
	// GetApps reads the applications of ids that exist, in no set order.
	GetApps(ctx context.Context, ids []string) ([]*Application, error)
	// UpdateApp writes a's own fields (name, full name, parent, product line,
	// the texts) and sets UpdatedAt; when its full name is not oldFullName
	// it renames its descendants too, in one statement. A full name taken
	// is KindConflict.
	UpdateApp(ctx context.Context, a *Application, oldFullName string) error
	// DeleteApp removes the application with its dependency links, persons
	// and the grants of application actions on it.
	DeleteApp(ctx context.Context, id string) error
	// ListApps lists one page of the applications f selects and their total,
	// oldest first unless f.Sort says otherwise (created_at, name,
	// full_name, number, updated_at; "-" for descending).
	ListApps(ctx context.Context, f AppFilter) (core.List[*Application], error)

	// AddAppRequired makes id require each of ids (again: no change);
	// RemoveAppRequired takes those dependencies back.
	AddAppRequired(ctx context.Context, id string, ids []string) error
	RemoveAppRequired(ctx context.Context, id string, ids []string) error
	// AppsRequiring returns those of among that require id directly or
	// through others, id itself included when it is among them: the
	// applications id must not require.
	AppsRequiring(ctx context.Context, id string, among []string) ([]string, error)

	// AddAppPersons names persons responsible for the application (again:
	// no change); RemoveAppPersons takes them back, each of a user's types
	// when a person's Type is empty.
	AddAppPersons(ctx context.Context, appID string, ps []Person) error
	RemoveAppPersons(ctx context.Context, appID string, ps []Person) error
	// ListAppPersons lists one page of an application's persons, by user
	// name then type, and their number.
	ListAppPersons(ctx context.Context, appID string, p core.Page) ([]Person, int, error)
}

// LineStore keeps product lines. Unknown ids are KindNotFound; a name taken
// is KindConflict.
type LineStore interface {
	CreateProductLine(ctx context.Context, l *ProductLine) error
	GetProductLine(ctx context.Context, id string) (*ProductLine, error)
	// UpdateProductLine writes l's name and description and sets UpdatedAt.
	UpdateProductLine(ctx context.Context, l *ProductLine) error
	DeleteProductLine(ctx context.Context, id string) error
	// ListProductLines lists one page of the lines f selects and their
	// total, oldest first unless f.Sort says otherwise (created_at, name).
	ListProductLines(ctx context.Context, f LineFilter) (core.List[*ProductLine], error)
	// SetAppsProductLine puts the applications of ids in line lineID ("":
	// in none).
	SetAppsProductLine(ctx context.Context, ids []string, lineID string) error
}
