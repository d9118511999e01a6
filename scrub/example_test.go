package scrub_test

import (
	"fmt"

	"github.com/guardsdk/guard/scrub"
)

func Example() {
	s := scrub.Default()
	fmt.Println(s.Header("Authorization", "Bearer abc"))
	fmt.Println(s.String("paid with 4111 1111 1111 1111, auth Bearer abc.def"))
	fmt.Println(string(s.JSON([]byte(`{"user":"ann","password":"hunter2"}`))))
	fmt.Println(s.Query("page=2&api_key=k"))
	// Output:
	// [REDACTED]
	// paid with [REDACTED], auth Bearer [REDACTED]
	// {"password":"[REDACTED]","user":"ann"}
	// api_key=%5BREDACTED%5D&page=2
}
