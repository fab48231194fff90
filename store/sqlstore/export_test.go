package sqlstore

// Followed, Cascades and Writes are the change counters' rules, for the tests
// of package sqlstore_test, which open a real database.
var (
	Followed = followed
	Cascades = cascades
	Writes   = writes
)
