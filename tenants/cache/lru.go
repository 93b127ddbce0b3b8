package cache

import "container/list"

// lru is a bounded map that drops the least recently used entry when full.
// It is not safe for concurrent use: the Cache's mutex guards it.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // front: most recently used; values are *lruEntry
	items map[K]*list.Element
	// evicted, if set, is called with each entry dropped to make room.
	evicted func(K, V)
	// evictions counts the entries dropped to make room.
	evictions uint64
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[K, V]).val, true
}

func (c *lru[K, V]) put(k K, v V) {
	if el, ok := c.items[k]; ok {
		el.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		e := last.Value.(*lruEntry[K, V])
		c.order.Remove(last)
		delete(c.items, e.key)
		c.evictions++
		if c.evicted != nil {
			c.evicted(e.key, e.val)
		}
	}
}

func (c *lru[K, V]) remove(k K) (V, bool) {
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.Remove(el)
	delete(c.items, k)
	return el.Value.(*lruEntry[K, V]).val, true
}

func (c *lru[K, V]) len() int { return c.order.Len() }

func (c *lru[K, V]) clear() {
	c.order.Init()
	clear(c.items)
}
