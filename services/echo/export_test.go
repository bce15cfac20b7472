package echo

// RegisterGauge exposes registerGauge to the external tests.
var RegisterGauge = registerGauge
