// Package console holds the admin console's templ pages and their view
// models. Like package views it imports nothing of Gatehouse's: handlers
// fill the view models.
package console
