package inspect

// BenchJSON is the stage benchmark's JSON body, for the external tests.
var BenchJSON = benchJSON
