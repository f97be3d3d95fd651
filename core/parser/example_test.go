package parser_test

import (
	"fmt"

	"github.com/siokit/siokit/core/parser"
)

// Example encodes an event with a binary argument, sends it through a
// Decoder as the header and its attachment, and decodes the arguments.
func Example() {
	data, attachments, err := parser.EncodeEvent(nil, "upload", []any{"a.txt", []byte("hello")})
	if err != nil {
		panic(err)
	}
	p := parser.Packet{Type: parser.Event, Namespace: "/files", ID: 7, HasID: true, Data: data, Attachments: attachments}
	header := p.Append(nil)
	fmt.Printf("%s\n", header)

	var d parser.Decoder
	got, _ := d.Decode(header, false) // nil: the attachment is still awaited
	fmt.Println(got == nil, d.Pending())
	for _, a := range attachments {
		got, err = d.Decode(a, true)
		if err != nil {
			panic(err)
		}
	}
	name, args, err := parser.ParseEvent(got.Data)
	if err != nil {
		panic(err)
	}
	var file string
	var content []byte
	_ = parser.Unmarshal(args[0], got.Attachments, &file)
	_ = parser.Unmarshal(args[1], got.Attachments, &content)
	fmt.Println(got.Type, got.Namespace, got.ID, name, file, string(content))
	// Output:
	// 51-/files,7["upload","a.txt",{"_placeholder":true,"num":0}]
	// true 1
	// BINARY_EVENT /files 7 upload a.txt hello
}
