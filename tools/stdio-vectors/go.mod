module stdiovectors

go 1.21
