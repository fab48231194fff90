package sampleapp

import "hostdeck/core"

// Image is the tag of the sample client image (built by `hostdeck image build-sample`).
const Image = "hostdeck/sample-client:latest"

// Version is the version of what the sample image does that Template relies on,
// raised whenever that changes, so that an image built by an older hostdeck is
// rebuilt rather than used: 2 is serve taking the owner password on stdin.
const Version = "2"

// Template is the client template of the sample client image: its port, its data
// volume, its health path, its owner password read on stdin at start (serve),
// and its hooks, each a command of this app.
func Template() core.ClientTemplate {
	hook := func(verb string) []string { return []string{"/hostdeck", "sample-app", verb} }
	return core.ClientTemplate{
		Image:      Image,
		Ports:      []core.Port{{Container: 8080}},
		Volumes:    []core.Volume{{Name: "data", Path: "/data"}},
		HealthPath: "/healthz",
		OwnerLogin: "admin",
		// The hook still sets later changes, and the first password on a
		// runtime that cannot write an instance's stdin.
		OwnerPasswordStdin: true,
		Hooks: core.ClientHooks{
			DemoEnable: hook("demo-enable"), DemoDisable: hook("demo-disable"), OwnerPassword: hook("owner-password"),
		},
	}
}
