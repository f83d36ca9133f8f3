package hub

// partLists are a set of subscribers (one stream's, or those of every
// stream), by part. A list is never changed in place (a change makes a new
// one), so a part reads its lists without the hub's lock. Changes are
// made under the hub's lock. A nil *partLists is an empty set to read
// (push, split, endLocked), not to change.
type partLists struct {
	by [parts][]*Sub
	n  int // subscribers in all the lists
}

// add puts s in its part's list; false if it was there already. (The
// scan costs no more than the copy: a part is a 64th of the set.)
func (pl *partLists) add(s *Sub) bool {
	l := pl.by[s.part]
	for _, x := range l {
		if x == s {
			return false
		}
	}
	pl.by[s.part] = append(l[:len(l):len(l)], s)
	pl.n++
	return true
}

// remove takes s out of its part's list; false if it was not there.
func (pl *partLists) remove(s *Sub) bool {
	l := pl.by[s.part]
	for i, x := range l {
		if x == s {
			pl.by[s.part] = append(append(make([]*Sub, 0, len(l)-1), l[:i]...), l[i+1:]...)
			pl.n--
			return true
		}
	}
	return false
}

// push queues u for every subscriber in the set, appending those over
// their bounds to slow.
func (pl *partLists) push(u *Update, slow []*Sub) []*Sub {
	if pl == nil {
		return slow
	}
	for _, l := range pl.by {
		for _, s := range l {
			if _, ok := s.push(u, false); !ok {
				slow = append(slow, s)
			}
		}
	}
	return slow
}

// split adds a step of u to each part's work, for its subscribers in the
// set.
func (pl *partLists) split(u *Update, work [][]step) {
	if pl == nil {
		return
	}
	for k, subs := range pl.by {
		if len(subs) > 0 {
			work[k] = append(work[k], step{u, subs})
		}
	}
}

// endLocked ends every subscriber in the set with ErrClosed, under the
// hub's lock.
func (pl *partLists) endLocked() {
	if pl == nil {
		return
	}
	for _, l := range pl.by {
		for _, s := range l {
			s.endLocked(ErrClosed)
		}
	}
}
