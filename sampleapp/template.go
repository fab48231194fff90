package sampleapp

import "hostdeck/core"

// Image is the tag of the sample client image (built by `hostdeck image build-sample`).
const Image = "hostdeck/sample-client:latest"

// Template is the client template of the sample client image: its port, its data
// volume, its health path and its hooks, each a command of this app.
func Template() core.ClientTemplate {
	hook := func(verb string) []string { return []string{"/hostdeck", "sample-app", verb} }
	return core.ClientTemplate{
		Image:      Image,
		Ports:      []core.Port{{Container: 8080}},
		Volumes:    []core.Volume{{Name: "data", Path: "/data"}},
		HealthPath: "/healthz",
		OwnerLogin: "admin",
		Hooks: core.ClientHooks{
			DemoEnable: hook("demo-enable"), DemoDisable: hook("demo-disable"), OwnerPassword: hook("owner-password"),
		},
	}
}
