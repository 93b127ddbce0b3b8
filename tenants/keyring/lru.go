package keyring

import (
	"container/list"
	"sync"
)

// lru is a bounded map of tenant id to opened keys that drops the least
// recently used tenant when full: with many tenants, only those serving
// traffic keep their private keys in memory.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *entry
	items map[string]*list.Element
}

type entry struct {
	tenantID string
	set      *Set
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(tenantID string) (*Set, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[tenantID]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).set, true
}

func (c *lru) put(tenantID string, set *Set) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[tenantID]; ok {
		el.Value.(*entry).set = set
		c.order.MoveToFront(el)
		return
	}
	c.items[tenantID] = c.order.PushFront(&entry{tenantID: tenantID, set: set})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry).tenantID)
	}
}

func (c *lru) remove(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[tenantID]; ok {
		c.order.Remove(el)
		delete(c.items, tenantID)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
