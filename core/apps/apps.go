package apps

import (
	"encoding/json"
	"time"

	"hostdeck/core"
)

// Application is a piece of software a team runs: a node of the tree of
// applications, with how it is started and stopped on its hosts.
type Application struct {
	ID     string `json:"id"`
	Number int64  `json:"number"`
	Name   string `json:"name"`
	// FullName is the names from the root down to this one, joined by dots
	// ("A.B.C"): unique, kept true when an ancestor is renamed or moved.
	FullName          string          `json:"full_name"`
	ParentID          string          `json:"parent_id"` // "" for a root
	ParentNumber      int64           `json:"parent_number"`
	ProductLineID     string          `json:"product_line_id"` // "" for none
	ProductLineNumber int64           `json:"product_line_number"`
	Description       string          `json:"description"`
	Type              json.RawMessage `json:"type"` // a JSON scalar, as the client gave it; nil is null
	RunUser           string          `json:"run_user"`
	Directory         string          `json:"directory"`
	StartupCmd        string          `json:"startup_cmd"`
	StopCmd           string          `json:"stop_cmd"`
	StdoutPath        string          `json:"stdout_path"`
	StderrPath        string          `json:"stderr_path"`
	PidPath           string          `json:"pid_path"`
	HasChild          bool            `json:"has_child"`
	Children          []Ref           `json:"children"`
	Required          []Ref           `json:"required"` // the applications this one depends on
	Persons           []Person        `json:"persons"`
	Creator           string          `json:"creator"` // the name of the user who made it; "" for the system
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

// Ref names another application.
type Ref struct {
	ID     string `json:"id"`
	Number int64  `json:"number"`
}

// Person is a user responsible for an application, as one of PersonTypes.
// Name, Email and Phone are the user's, filled on reads.
type Person struct {
	UserID     string `json:"user_id"`
	UserNumber int64  `json:"user_number"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
}

// The types of responsible persons.
const (
	PersonDeveloper      = "dev"
	PersonOperator       = "ops"
	PersonTester         = "qa"
	PersonProductManager = "pm"
)

// PersonTypes are the types a person may have.
var PersonTypes = []string{PersonDeveloper, PersonOperator, PersonTester, PersonProductManager}

// AppInput creates or changes an application; nil fields are left as they are.
type AppInput struct {
	Name        *string
	Description *string
	Type        *json.RawMessage
	RunUser     *string
	Directory   *string
	StartupCmd  *string
	StopCmd     *string
	StdoutPath  *string
	StderrPath  *string
	PidPath     *string
	// ParentID moves the application under another ("": makes it a root).
	ParentID *string
	// Children, Required and Persons replace the sets (persons by UserID
	// and Type): children not in the new set become roots.
	Children *[]string
	Required *[]string
	Persons  *[]Person
	// ProductLineID puts the application in a line ("": in none).
	ProductLineID *string
}

// AppFilter selects applications; nil fields do not filter.
type AppFilter struct {
	Name       *string // the exact name of the node
	FullName   *string // the exact dotted path
	HasParent  *bool
	ParentID   *string // the children of this application
	RequiredBy *string // the applications this one requires
	Requires   *string // the applications that require this one
	// ProductLineID keeps a line's applications ("": those in none).
	ProductLineID *string
	// PersonIDs keeps the applications that have any of these users as
	// persons (empty: none).
	PersonIDs []string
	// UserName, RoleName and UserID keep the applications on which that user
	// (directly or through its groups), or that group, holds
	// application.view by a grant: all of them for a grant on every
	// application, none for an unknown name.
	UserName *string
	RoleName *string
	UserID   *string
	// VisibleTo, a user id, keeps the applications that user sees by its
	// grants (its own and its groups'). List sets it from the actor; what a
	// caller sets is replaced.
	VisibleTo *string
	core.Page
}

// ProductLine is a group of applications a business sells as one.
type ProductLine struct {
	ID          string    `json:"id"`
	Number      int64     `json:"number"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Creator     string    `json:"creator"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// LineInput creates or changes a product line; nil fields are left as they
// are.
type LineInput struct {
	Name        *string
	Description *string
}

// LineFilter selects product lines.
type LineFilter struct {
	Name *string // the exact name
	core.Page
}
