/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		Read the registry user name and password from the credentials file.
 *
 * The file is named by toll_free.credentials_file (superuser only) and
 * contains two lines, "username = NAME" and "password = SECRET".  Blank
 * lines and lines starting with # are ignored.  It is read at each session open
 * and nowhere else, and a file that group or others may read is rejected,
 * as PostgreSQL does for its own key files.  Nothing read here is ever
 * logged or put in an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "storage/fd.h"

#include "session.h"
#include "settings.h"

/* trim: strip leading and trailing white space in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/*
 * tf_read_credentials
 *		Return palloc'd copies of the user name and password.
 */
void
tf_read_credentials(char **user, char **password)
{
	const char *path = tf_credentials_file;
	FILE	   *file;
	struct stat st;
	char		line[1024];
	int			line_number = 0;

	*user = NULL;
	*password = NULL;

	if (path == NULL || path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("toll_free.credentials_file is not set"),
				 errhint("Name a file with \"username = ...\" and \"password = ...\" lines, readable only by the server account.")));

	file = AllocateFile(path, "r");
	if (file == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open registry credentials file \"%s\": %m", path)));

	if (fstat(fileno(file), &st) != 0)
	{
		FreeFile(file);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat registry credentials file \"%s\": %m", path)));
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		FreeFile(file);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("registry credentials file \"%s\" is accessible by other users", path),
				 errhint("Run chmod 600 on the file; it must be readable only by the server account.")));
	}

	while (fgets(line, sizeof(line), file) != NULL)
	{
		char	   *text = trim(line);
		char	   *equals;
		char	   *key;
		char	   *value;

		line_number++;
		if (text[0] == '\0' || text[0] == '#')
			continue;

		equals = strchr(text, '=');
		if (equals == NULL)
		{
			explicit_bzero(line, sizeof(line));
			FreeFile(file);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("invalid line %d in registry credentials file \"%s\"", line_number, path),
					 errdetail("Each line must have the form \"username = NAME\" or \"password = SECRET\".")));
		}
		*equals = '\0';
		key = trim(text);
		value = trim(equals + 1);

		if (strcmp(key, "username") == 0)
			*user = pstrdup(value);
		else if (strcmp(key, "password") == 0)
			*password = pstrdup(value);
	}
	explicit_bzero(line, sizeof(line));
	FreeFile(file);

	if (*user == NULL || *password == NULL || (*user)[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("registry credentials file \"%s\" lacks a username or password line", path)));
}
