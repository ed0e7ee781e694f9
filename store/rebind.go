package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
)

// The store's SQL is written once, with '?' placeholders, for SQLite and
// Postgres alike. Postgres (pgx) wants $1, $2, …: rebindConnector wraps the
// pgx connector of database/sql and rewrites the placeholders of every
// statement that uses '?' and no $n. Statements that already use $n (River's
// own, on a transaction shared with intake) pass through unchanged.

// rebindConnector wraps a driver.Connector so that its connections rebind
// '?' placeholders.
type rebindConnector struct{ driver.Connector }

// Connect implements driver.Connector.
func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	full, ok := conn.(rebindable)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("store: postgres connection %T lacks the database/sql interfaces", conn)
	}
	return rebindConn{full}, nil
}

// rebindable is what the pgx stdlib connection implements and rebindConn
// forwards.
type rebindable interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
}

// rebindConn is a connection that rebinds placeholders.
type rebindConn struct{ rebindable }

// Prepare implements driver.Conn.
func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.rebindable.Prepare(rebind(query))
}

// PrepareContext implements driver.ConnPrepareContext.
func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.rebindable.PrepareContext(ctx, rebind(query))
}

// ExecContext implements driver.ExecerContext.
func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		query = rebind(query)
	}
	return c.rebindable.ExecContext(ctx, query, args)
}

// QueryContext implements driver.QueryerContext.
func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		query = rebind(query)
	}
	return c.rebindable.QueryContext(ctx, query, args)
}

// rebind turns the '?' placeholders of query into $1, $2, … . '?' inside
// quoted strings or identifiers is left alone, and so is a query that
// already has a $n placeholder (it is Postgres SQL, where '?' is a JSON
// operator).
func rebind(query string) string {
	if !strings.Contains(query, "?") || hasDollarParam(query) {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte // the open quote character, 0 outside quotes
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// hasDollarParam reports whether query has a $n placeholder.
func hasDollarParam(query string) bool {
	for i := 0; i+1 < len(query); i++ {
		if query[i] == '$' && query[i+1] >= '0' && query[i+1] <= '9' {
			return true
		}
	}
	return false
}
