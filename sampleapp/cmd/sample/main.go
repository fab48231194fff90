// Command sample runs sampleapp on its own, for tests that build the sample image
// without the full hostdeck binary. It accepts the same arguments as
// "hostdeck sample-app ...", with or without the leading "sample-app".
package main

import (
	"os"

	"hostdeck/sampleapp"
)

func main() { os.Exit(sampleapp.Main(os.Args[1:])) }
