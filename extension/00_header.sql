/* toll_free--1.0.sql: built from the fragments in extension/, in name order. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION toll_free" to load this file. \quit
