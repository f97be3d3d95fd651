package engineio_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// Dial a server, send a message, print the echo and close. The session
// starts on long-polling and upgrades to WebSocket when the server offers it.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	echo := make(chan string, 1)
	c, err := engineio.Dial(ctx, "http://localhost:8080", &engineio.ClientOptions{
		OnMessage: func(data []byte, binary bool) { echo <- string(data) },
		OnClose: func(reason string, err error) {
			log.Printf("closed: %s (%v)", reason, err)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Send([]byte("hello"), false); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-echo)
	_ = c.Close()
	<-c.Done()
}
