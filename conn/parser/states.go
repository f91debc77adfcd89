package parser

// state is where the parser stands in the client protocol. Op names are
// matched one byte at a time, case-insensitively; an argument state lasts
// until its line feed; the payload states count out a PUB/HPUB body and its
// CRLF.
type state uint8

const (
	// opStart: between ops. May be followed by the first state of any op
	// a client may send (opP, opH, opS, opU, opC, opI, opPlus, opMinus).
	opStart state = iota

	// "+OK": opPlus -> opPlusO -> opPlusOK; opPlusOK ignores bytes up to
	// its line feed, then opStart.
	opPlus
	opPlusO
	opPlusOK

	// "-ERR": opMinus -> opMinusE -> opMinusER -> opMinusERR, which needs a
	// space or tab -> opMinusERRSpc -> minusErrArg.
	opMinus
	opMinusE
	opMinusER
	opMinusERR
	opMinusERRSpc
	minusErrArg

	// "CONNECT": opC ... opCONNECT, which skips blanks (none required) ->
	// connectArg -> opStart.
	opC
	opCO
	opCON
	opCONN
	opCONNE
	opCONNEC
	opCONNECT
	connectArg

	// "HPUB" and "HMSG" share opH. opHPUB and opHMSG need a blank, then
	// skip blanks; hpubArg -> msgPayload or msgEndR; hmsgArg -> msgEndR.
	opH
	opHP
	opHPU
	opHPUB
	opHPUBSpc
	hpubArg
	opHM
	opHMS
	opHMSG
	opHMSGSpc
	hmsgArg

	// "PUB", "PING" and "PONG" share opP. pubArg -> msgPayload or msgEndR.
	// opPING and opPONG ignore bytes up to their line feed, then opStart.
	opP
	opPU
	opPUB
	opPUBSpc
	pubArg
	opPI
	opPIN
	opPING
	opPO
	opPON
	opPONG

	// msgPayload counts out the body -> msgEndR ('\r') -> msgEndN ('\n')
	// -> opStart.
	msgPayload
	msgEndR
	msgEndN

	// "SUB": opS ... opSUB (needs a blank) -> opSUBSpc -> subArg -> opStart.
	opS
	opSU
	opSUB
	opSUBSpc
	subArg

	// "UNSUB": opU ... opUNSUB (needs a blank) -> opUNSUBSpc -> unsubArg
	// -> opStart.
	opU
	opUN
	opUNS
	opUNSU
	opUNSUB
	opUNSUBSpc
	unsubArg

	// "INFO": opI ... opINFO, which skips blanks (none required) ->
	// infoArg -> opStart.
	opI
	opIN
	opINF
	opINFO
	infoArg

	numStates
)

var stateNames = [numStates]string{
	opStart:       "OP_START",
	opPlus:        "OP_PLUS",
	opPlusO:       "OP_PLUS_O",
	opPlusOK:      "OP_PLUS_OK",
	opMinus:       "OP_MINUS",
	opMinusE:      "OP_MINUS_E",
	opMinusER:     "OP_MINUS_ER",
	opMinusERR:    "OP_MINUS_ERR",
	opMinusERRSpc: "OP_MINUS_ERR_SPC",
	minusErrArg:   "MINUS_ERR_ARG",
	opC:           "OP_C",
	opCO:          "OP_CO",
	opCON:         "OP_CON",
	opCONN:        "OP_CONN",
	opCONNE:       "OP_CONNE",
	opCONNEC:      "OP_CONNEC",
	opCONNECT:     "OP_CONNECT",
	connectArg:    "CONNECT_ARG",
	opH:           "OP_H",
	opHP:          "OP_HP",
	opHPU:         "OP_HPU",
	opHPUB:        "OP_HPUB",
	opHPUBSpc:     "OP_HPUB_SPC",
	hpubArg:       "HPUB_ARG",
	opHM:          "OP_HM",
	opHMS:         "OP_HMS",
	opHMSG:        "OP_HMSG",
	opHMSGSpc:     "OP_HMSG_SPC",
	hmsgArg:       "HMSG_ARG",
	opP:           "OP_P",
	opPU:          "OP_PU",
	opPUB:         "OP_PUB",
	opPUBSpc:      "OP_PUB_SPC",
	pubArg:        "PUB_ARG",
	opPI:          "OP_PI",
	opPIN:         "OP_PIN",
	opPING:        "OP_PING",
	opPO:          "OP_PO",
	opPON:         "OP_PON",
	opPONG:        "OP_PONG",
	msgPayload:    "MSG_PAYLOAD",
	msgEndR:       "MSG_END_R",
	msgEndN:       "MSG_END_N",
	opS:           "OP_S",
	opSU:          "OP_SU",
	opSUB:         "OP_SUB",
	opSUBSpc:      "OP_SUB_SPC",
	subArg:        "SUB_ARG",
	opU:           "OP_U",
	opUN:          "OP_UN",
	opUNS:         "OP_UNS",
	opUNSU:        "OP_UNSU",
	opUNSUB:       "OP_UNSUB",
	opUNSUBSpc:    "OP_UNSUB_SPC",
	unsubArg:      "UNSUB_ARG",
	opI:           "OP_I",
	opIN:          "OP_IN",
	opINF:         "OP_INF",
	opINFO:        "OP_INFO",
	infoArg:       "INFO_ARG",
}

func (s state) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "state(?)"
}

// letter is, for a state that accepts exactly one letter of an op name,
// that letter in lower case and the state it leads to. A zero want means
// the state is not a one-letter state.
type letter struct {
	want byte
	next state
}

// spelling is the single declaration of every op name the parser knows,
// after its first byte and apart from the branch points (opStart, opH, opP).
var spelling = [numStates]letter{
	opPlus:    {'o', opPlusO},
	opPlusO:   {'k', opPlusOK},
	opMinus:   {'e', opMinusE},
	opMinusE:  {'r', opMinusER},
	opMinusER: {'r', opMinusERR},
	opC:       {'o', opCO},
	opCO:      {'n', opCON},
	opCON:     {'n', opCONN},
	opCONN:    {'e', opCONNE},
	opCONNE:   {'c', opCONNEC},
	opCONNEC:  {'t', opCONNECT},
	opHP:      {'u', opHPU},
	opHPU:     {'b', opHPUB},
	opHM:      {'s', opHMS},
	opHMS:     {'g', opHMSG},
	opPU:      {'b', opPUB},
	opPI:      {'n', opPIN},
	opPIN:     {'g', opPING},
	opPO:      {'n', opPON},
	opPON:     {'g', opPONG},
	opS:       {'u', opSU},
	opSU:      {'b', opSUB},
	opU:       {'n', opUN},
	opUN:      {'s', opUNS},
	opUNS:     {'u', opUNSU},
	opUNSU:    {'b', opUNSUB},
	opI:       {'n', opIN},
	opIN:      {'f', opINF},
	opINF:     {'o', opINFO},
}

// afterBlank maps a state that needs one space or tab after the op name to
// the blank-skipping state that follows it.
var afterBlank = [numStates]state{
	opMinusERR: opMinusERRSpc,
	opHPUB:     opHPUBSpc,
	opHMSG:     opHMSGSpc,
	opPUB:      opPUBSpc,
	opSUB:      opSUBSpc,
	opUNSUB:    opUNSUBSpc,
}

// argOf maps a blank-skipping state to the argument state its first
// non-blank byte starts.
var argOf = [numStates]state{
	opMinusERRSpc: minusErrArg,
	opCONNECT:     connectArg,
	opHPUBSpc:     hpubArg,
	opHMSGSpc:     hmsgArg,
	opPUBSpc:      pubArg,
	opSUBSpc:      subArg,
	opUNSUBSpc:    unsubArg,
	opINFO:        infoArg,
}

// isArg reports whether s collects a control line's arguments.
func (s state) isArg() bool {
	switch s {
	case minusErrArg, connectArg, hpubArg, hmsgArg, pubArg, subArg, unsubArg, infoArg:
		return true
	}
	return false
}

// opName is the op an argument state belongs to, for error details.
func (s state) opName() string {
	switch s {
	case minusErrArg:
		return "-ERR"
	case connectArg:
		return "CONNECT"
	case hpubArg:
		return "HPUB"
	case hmsgArg:
		return "HMSG"
	case pubArg:
		return "PUB"
	case subArg:
		return "SUB"
	case unsubArg:
		return "UNSUB"
	case infoArg:
		return "INFO"
	}
	return s.String()
}
