package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBrokerMounts checks that serve mounts the broker face under /broker/ on the
// main listener and at / on --broker-listen.
func TestBrokerMounts(t *testing.T) {
	brokerAddr := freeAddr(t)
	p := start(t, "HOSTDECK_BROKER_LISTEN="+brokerAddr)
	body := `{"user": "admin", "password": "` + procAdminPassword + `", "user_domain_name": "default"}`
	for _, url := range []string{p.base + "/broker/v1/get-projects/", "http://" + brokerAddr + "/v1/get-projects"} {
		res, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Projects []string `json:"projects"`
		}
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err != nil || got.Projects == nil {
			t.Fatalf("POST %s: %d %+v %v", url, res.StatusCode, got, err)
		}
	}
}
