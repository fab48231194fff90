package httpx

import "time"

// SetMoveEvery sets how often a kept answer moves in the order of use, and
// returns the undo.
func SetMoveEvery(d time.Duration) func() {
	old := moveEvery
	moveEvery = d
	return func() { moveEvery = old }
}
