package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hostdeck/core"
)

// testTokenKinds checks what the one session mechanism needs beyond API
// tokens: a token keeps its kind and lifetimes, a use is recorded, and the
// sweep deletes the tokens expired absolutely or idle before its time, and no
// other.
func testTokenKinds(t *testing.T, s Store) {
	ctx := context.Background()
	u := newUser(t, s, "panel-user")
	panel := func(secret string, lastUsed time.Time) *core.Token {
		t.Helper()
		tk := &core.Token{Kind: core.TokenPanel, UserID: u.ID, Hash: core.TokenHash(secret), Methods: []string{"password"},
			IssuedAt: base, ExpiresAt: base.Add(12 * time.Hour), LastUsedAt: lastUsed, IdleTimeout: time.Hour}
		ok(t, s.CreateToken(ctx, tk))
		return tk
	}
	idle := panel("idle", base)
	fresh := panel("fresh", base)
	got, err := s.GetTokenByHash(ctx, fresh.Hash)
	ok(t, err)
	diff(t, fresh, got)

	later := base.Add(50 * time.Minute)
	ok(t, s.TouchToken(ctx, fresh.ID, later))
	wantKind(t, s.TouchToken(ctx, "00000000-0000-0000-0000-000000000000", later), core.KindNotFound)
	got, err = s.GetTokenByHash(ctx, fresh.Hash)
	ok(t, err)
	if !got.LastUsedAt.Equal(later) || !got.IssuedAt.Equal(base) {
		t.Fatalf("after touch: %+v", got)
	}

	// An API token without an idle timeout, used long ago, lives to its expiry.
	api := &core.Token{UserID: u.ID, Hash: core.TokenHash("api"), IssuedAt: base, ExpiresAt: base.Add(2 * time.Hour)}
	ok(t, s.CreateToken(ctx, api))
	if api.Kind != core.TokenAPI || !api.LastUsedAt.Equal(base) {
		t.Fatalf("a token made without a kind: %+v", api)
	}
	n, err := s.DeleteExpiredTokens(ctx, base.Add(100*time.Minute))
	ok(t, err)
	if n != 1 {
		t.Fatalf("deleted %d tokens, want the idle one", n)
	}
	_, err = s.GetTokenByHash(ctx, idle.Hash)
	wantKind(t, err, core.KindNotFound)
	for _, tk := range []*core.Token{fresh, api} {
		_, err = s.GetTokenByHash(ctx, tk.Hash)
		ok(t, err)
	}
	n, err = s.DeleteExpiredTokens(ctx, base.Add(13*time.Hour))
	ok(t, err)
	if n != 2 {
		t.Fatalf("deleted %d tokens past their expiry, want 2", n)
	}
}

// TokenKindsMigration checks that migration 0011 makes the panel sessions of
// 0008 tokens of kind panel, with their times and the panel's lifetimes, and
// keeps the API tokens there were as they were. open opens the same database
// each time (running pending migrations); exec runs raw SQL on it. The test
// undoes 0011 by hand, stores a session and an API token as they were stored
// before it, and opens the database again.
func TokenKindsMigration(t *testing.T, open func() Store, exec func(query string)) {
	ctx := context.Background()
	s := open()
	u := newUser(t, s, "old-panel-user")
	ok(t, s.Close())
	created, used := base, base.Add(20*time.Minute)
	sessionHash, apiHash := core.TokenHash("old-session"), core.TokenHash("old-api")
	us := func(at time.Time) int64 { return at.UnixMicro() }
	for _, q := range []string{
		// The indexes of later migrations (0020) on the columns 0011 added.
		`DROP INDEX IF EXISTS tokens_kind_user`, `DROP INDEX IF EXISTS tokens_kind_order`,
		`ALTER TABLE tokens DROP COLUMN kind`, `ALTER TABLE tokens DROP COLUMN last_used_at`, `ALTER TABLE tokens DROP COLUMN idle_timeout`,
		`CREATE TABLE billmgr_sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			created_at BIGINT NOT NULL, last_used_at BIGINT NOT NULL)`,
		fmt.Sprintf(`INSERT INTO billmgr_sessions VALUES ('%s', '%s', %d, %d)`, sessionHash, u.ID, us(created), us(used)),
		fmt.Sprintf(`INSERT INTO tokens (id, token_hash, user_id, project_id, methods, issued_at, expires_at)
			VALUES ('0190f0a0-0000-7000-8000-000000000001', '%s', '%s', '', 'password', %d, %d)`, apiHash, u.ID, us(created), us(created.Add(time.Hour))),
		`DELETE FROM schema_migrations WHERE version = '0011_token_kinds'`,
	} {
		exec(q)
	}
	s = open()
	defer s.Close()
	sess, err := s.GetTokenByHash(ctx, sessionHash)
	ok(t, err)
	want := &core.Token{ID: sessionHash[:8] + "-" + sessionHash[8:12] + "-" + sessionHash[12:16] + "-" + sessionHash[16:20] + "-" + sessionHash[20:32],
		Hash: sessionHash, Kind: core.TokenPanel, UserID: u.ID, Methods: []string{"password"},
		IssuedAt: created, ExpiresAt: created.Add(core.PanelSessionMax), LastUsedAt: used, IdleTimeout: core.PanelSessionIdle}
	diff(t, want, sess)
	api, err := s.GetTokenByHash(ctx, apiHash)
	ok(t, err)
	diff(t, &core.Token{ID: "0190f0a0-0000-7000-8000-000000000001", Hash: apiHash, Kind: core.TokenAPI, UserID: u.ID,
		Methods: []string{"password"}, IssuedAt: created, ExpiresAt: created.Add(time.Hour), LastUsedAt: created}, api)
}
