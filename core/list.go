package core

// Lists. A list that follows the changes of its data reads, before anything
// else, the stamp of the tables it shows: one point read of the change counters
// that every write to those tables moves in its own transaction (the store's
// business). Equal stamps mean the same data, on every replica, so a stamp is
// what answers are cached by: the store keeps a list's total (and where its
// deep pages start) per stamp instead of counting on every request, and a face
// keeps a rendered answer per stamp, asking with Page.Since whether it still
// holds. README.md ("How it is built") says how a new list follows the pattern.

// Stamp is the state of the data a list was read from, as the store tells it:
// opaque, equal only for the same state. It never comes back once the data
// changed.
type Stamp string

// List is one page of a list: its items, how many match the filter on all pages,
// and the stamp of the data they were read at. Unchanged says the page's
// Since named the data as they still are: Items is nil and Total zero, and the
// caller's answer read at Since is the answer.
type List[T any] struct {
	Items     []T
	Total     int
	Stamp     Stamp
	Unchanged bool
}
