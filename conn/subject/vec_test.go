package subject

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestVecAgainstSlice runs random pushes, sets and pops on a vec and on a
// slice, and checks after each step that the vec holds the slice's items
// and that every earlier version still holds what it held (vecs are
// immutable).
func TestVecAgainstSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type version struct {
		v    vec[int]
		want []int
	}
	var v vec[int]
	var ref []int
	var versions []version
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 6 || len(ref) == 0:
			v, ref = v.push(step), append(ref, step)
		case op < 8:
			i := rng.IntN(len(ref))
			v, ref = v.set(i, -step), slices.Clone(ref)
			ref[i] = -step
		default:
			v, ref = v.pop(), slices.Clone(ref[:len(ref)-1])
		}
		if v.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, v.len(), len(ref))
		}
		if got := v.appendTo(nil); !slices.Equal(got, ref) {
			t.Fatalf("step %d: items %v, want %v", step, got, ref)
		}
		if len(ref) > 0 {
			i := rng.IntN(len(ref))
			if v.at(i) != ref[i] {
				t.Fatalf("step %d: at(%d) = %d, want %d", step, i, v.at(i), ref[i])
			}
		}
		if step%97 == 0 {
			versions = append(versions, version{v, slices.Clone(ref)})
		}
	}
	for i, ver := range versions {
		if got := ver.v.appendTo(nil); !slices.Equal(got, ver.want) {
			t.Fatalf("version %d changed: %v, want %v", i, got, ver.want)
		}
	}
}

// TestVecGrowsAndShrinksLevels pushes past two levels and pops back to
// empty, checking every item on the way.
func TestVecGrowsAndShrinksLevels(t *testing.T) {
	const n = vecWidth*vecWidth + 3
	var v vec[int]
	for i := range n {
		v = v.push(i)
	}
	if v.shift != 2*vecBits {
		t.Fatalf("shift %d after %d pushes, want %d", v.shift, n, 2*vecBits)
	}
	for i := n; i > 0; i-- {
		if v.len() != i || v.at(i-1) != i-1 || v.at(0) != 0 {
			t.Fatalf("at length %d: len %d, last %d", i, v.len(), v.at(i-1))
		}
		v = v.pop()
	}
	if v.len() != 0 || v.root != nil {
		t.Fatalf("not empty after popping everything: %+v", v)
	}
}
