package gqlclient

//go:generate go tool genqlient genqlient.yaml
