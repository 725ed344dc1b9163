// Loads tsx as resolved from the repository, whatever the current directory.
import 'tsx';
