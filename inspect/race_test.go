//go:build race

package inspect

// raceEnabled scales the generated cases of the reference tests down
// under the race detector, which slows them tenfold.
const raceEnabled = true
