package lifecycle

//go:generate go run ../fsmgen -out ../docs
