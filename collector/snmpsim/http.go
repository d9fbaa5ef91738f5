package snmpsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxFaultBody bounds what a fault request may send.
const maxFaultBody = 1 << 16

// Handler serves the control API:
//
//	GET    /api/v1/devices                 list of DeviceInfo
//	GET    /api/v1/devices/{name}          one DeviceInfo
//	POST   /api/v1/devices/{name}/faults   body: one Fault; 201 with the updated DeviceInfo
//	DELETE /api/v1/devices/{name}/faults   clear faults; 200 with the updated DeviceInfo
//
// Errors are {"error":{"code":"invalid"|"not_found","message":"..."}}.
// Communities are blanked in API output: they are credentials.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/devices", func(w http.ResponseWriter, r *http.Request) {
		devs := s.Devices()
		for i := range devs {
			devs[i] = redact(devs[i])
		}
		writeJSON(w, http.StatusOK, devs)
	})
	mux.HandleFunc("GET /api/v1/devices/{name}", func(w http.ResponseWriter, r *http.Request) {
		info, ok := s.Device(r.PathValue("name"))
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("device %q does not exist", r.PathValue("name")))
			return
		}
		writeJSON(w, http.StatusOK, redact(info))
	})
	mux.HandleFunc("POST /api/v1/devices/{name}/faults", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "request body is not a fault: "+err.Error())
			return
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, "invalid", "request body must hold exactly one fault object")
			return
		}
		if err := s.InjectFault(name, f); err != nil {
			s.writeFaultError(w, err)
			return
		}
		info, _ := s.Device(name)
		writeJSON(w, http.StatusCreated, redact(info))
	})
	mux.HandleFunc("DELETE /api/v1/devices/{name}/faults", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := s.ClearFaults(name); err != nil {
			s.writeFaultError(w, err)
			return
		}
		info, _ := s.Device(name)
		writeJSON(w, http.StatusOK, redact(info))
	})
	return mux
}

func redact(info DeviceInfo) DeviceInfo {
	info.Community = ""
	return info
}

func (s *Simulator) writeFaultError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnknownDevice):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrInvalidFault):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		s.log.Error("snmpsim: control API failed", "error", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do then
}
