package oracle

// Aliases lists, by normalised LibreNMS hardware string, a normalised model
// name of ours that the model check also accepts, each with the reason.
// Add an entry only where both name the same model and ours is at least as
// useful on a ticket; never to hide a wrong reading.
var Aliases = map[string]string{
	// LibreNMS appends the hardware revision (V03) to Cisco Business
	// switch models; the model on the label and in the order is without it.
	"cbs22048t4xv03": "cbs22048t4x",
	// LibreNMS joins the CPU architecture and the TLS library
	// ("amd64/OpenSSL"); the library is not hardware.
	"amd64openssl": "amd64",
}
