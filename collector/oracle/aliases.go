package oracle

// Aliases lists, by normalised LibreNMS hardware string, a normalised model
// name of ours that the model check also accepts, each with the reason.
// Add an entry only where both name the same model and ours is at least as
// useful on a ticket; never to hide a wrong reading.
var Aliases = map[string]string{}
