module github.com/assessgate/assessgate

go 1.26.8
