package pickle_test

import (
	"errors"
	"fmt"

	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// A python-socketio emit message, as pickle.dumps writes it, read back.
func ExampleUnmarshal() {
	msg, err := pickle.Marshal(map[string]any{
		"method": "emit", "event": "news", "data": pickle.Tuple{"hello", []byte{1, 2}},
		"namespace": "/", "room": nil,
	})
	if err != nil {
		panic(err)
	}
	v, err := pickle.Unmarshal(msg)
	if err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	fmt.Println(m["method"], m["event"], m["data"])

	// os.system("true"): an import and a call, refused.
	_, err = pickle.Unmarshal([]byte("\x80\x04cos\nsystem\n\x8c\x04true\x85R."))
	fmt.Println(errors.Is(err, pickle.ErrRefused), err)
	// Output:
	// emit news [hello [1 2]]
	// true pickle: opcode refused: GLOBAL (0x63) at offset 2
}
