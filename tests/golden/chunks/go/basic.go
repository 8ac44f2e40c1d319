// Package store keeps items in memory.
package store

import (
	"errors"
	"sync"

	log "github.com/acme/shop/internal/logging"
)

const MaxItems = 100

var ErrFull = errors.New("store is full")

// Store is a concurrency-safe list.
type Store struct {
	mu    sync.Mutex
	items []string
}

type Reader interface {
	Get(i int) (string, error)
}

// Add appends an item.
func (s *Store) Add(item string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) >= MaxItems {
		return ErrFull
	}
	s.items = append(s.items, item)
	log.Printf("added %s", item)
	return nil
}

func New() *Store {
	return &Store{}
}
